// Command vigie-soakplot draws the soak's monthly tables (make soak,
// VIGIE_SOAK_OUT) as one SVG: database size before and after the daily
// retention and compaction, and the daemon's RSS, anonymous and
// file-backed, per simulated month, one colour per variant. The closing
// note of issue #15 carries it (make soak renders it to PNG with headless
// Chromium).
//
//	vigie-soakplot -o soak-out/soak.svg soak-out/year.txt soak-out/bad.txt
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "vigie-soakplot:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("vigie-soakplot", flag.ContinueOnError)
	out := fs.String("o", "soak.svg", "the SVG to write")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("no table file given (the soak's VIGIE_SOAK_OUT files)")
	}
	var tables []soakTable
	for _, path := range fs.Args() {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		t, err := parseTable(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		tables = append(tables, t)
	}
	var b bytes.Buffer
	if err := render(&b, tables); err != nil {
		return err
	}
	if err := os.WriteFile(*out, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write the plot: %w", err)
	}
	return nil
}
