//go:build linux

// Package rie runs a Lambda function's bootstrap under the AWS Lambda
// Runtime Interface Emulator (the aws-lambda-rie command), on loopback, for
// end-to-end tests and benchmarks. The test helpers (skip or fail without
// the emulator, build a bootstrap once per test binary) are in rietest.
//
// What the emulator does, as read from its source
// (github.com/aws/aws-lambda-runtime-interface-emulator
// v0.0.0-20261030222936-bef5c4ba774d) and checked against it:
//
//   - It is started as `aws-lambda-rie [options] BOOTSTRAP [ARGS...]`. With
//     more than one word after the options, the last word is also taken as
//     the handler name (_HANDLER). The bootstrap runs in the emulator's
//     working directory. "--" is not understood: it would be taken as the
//     bootstrap.
//   - It listens for invokes on --runtime-interface-emulator-address
//     (default 0.0.0.0:8080, so this package always passes a loopback
//     address) and serves the Runtime API on --runtime-api-address.
//   - Init is lazy: the bootstrap is not started until the first invoke,
//     which pays the whole cold start. The emulator's HTTP listener being
//     up says nothing about the function.
//   - The bootstrap's environment is the emulator's whole environment, plus
//     AWS_LAMBDA_RUNTIME_API, and defaults for AWS_LAMBDA_FUNCTION_NAME
//     (test_function), AWS_LAMBDA_FUNCTION_VERSION ($LATEST),
//     AWS_LAMBDA_FUNCTION_MEMORY_SIZE (3008) and the log group and stream,
//     which the emulator's own environment overrides. The emulator reads
//     LOG_LEVEL for itself too, so this package pins its level with
//     --log-level.
//   - The bootstrap runs in a process group of its own. Its stdout and
//     stderr both go to the emulator's stdout, between the emulator's
//     "START RequestId:", "END RequestId:" and "REPORT RequestId:" lines.
//     The emulator logs to its stderr, including "INIT REPORT(durationMs:
//     N)" from exec to the runtime's first request for work.
//   - An invoke is POST /2015-03-31/functions/function/invocations with the
//     event as the body; the X-Amzn-RequestId header, if given, becomes the
//     Lambda request id. The answer carries none of the function's headers.
//   - Invokes must not overlap: a second invoke while one runs is refused
//     (AlreadyReserved) and then crashes the emulator with a nil pointer
//     dereference. Invoke therefore holds a lock.
//   - A handler's returned error is a 200 whose body is
//     {"errorMessage":…,"errorType":…}. A panic or an exit during the
//     invoke is a 502 with such a body (errorType Runtime.ExitError for an
//     exit), and the next invoke starts the bootstrap again. A bootstrap
//     that fails during init, or cannot be executed, is a 502 with an empty
//     body. A timeout (AWS_LAMBDA_FUNCTION_TIMEOUT seconds, default 300) is
//     a 200 with the plain text "Task timed out after N.00 seconds".
//   - On SIGTERM it kills the bootstrap's process group and exits.
//
// Linux only: the emulator is a Linux program, and its processes are
// tracked through process groups, Pdeathsig and /proc.
package rie
