package benchreport

import "strings"

// MarkdownTable writes a table whose first left columns are text and the
// others figures, aligned right so that their digits line up when the
// Markdown is rendered.
func MarkdownTable(sb *strings.Builder, header []string, left int, rows [][]string) {
	sb.WriteString("| " + strings.Join(header, " | ") + " |\n|")
	for i := range header {
		if i < left {
			sb.WriteString("---|")
		} else {
			sb.WriteString("--:|")
		}
	}
	sb.WriteString("\n")
	for _, row := range rows {
		sb.WriteString("| " + strings.Join(row, " | ") + " |\n")
	}
}

// PassFail is a verdict on a target as the reports write it.
func PassFail(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}
