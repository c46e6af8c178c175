// Command zipbootstrap packs a Lambda bootstrap for `make lambda` (see
// package lambdazip for why the zip is written by hand).
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/icy-morning/icy-morning/internal/lambdazip"
)

func main() {
	out := flag.String("o", "", "zip file to write")
	flag.Parse()
	if *out == "" || flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: zipbootstrap -o out.zip path/to/bootstrap")
		os.Exit(2)
	}
	if err := lambdazip.Write(*out, flag.Arg(0)); err != nil {
		fmt.Fprintln(os.Stderr, "zipbootstrap:", err)
		os.Exit(1)
	}
}
