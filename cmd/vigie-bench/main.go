// Command vigie-bench measures the delivery engine's figures of issue #4
// (item 11) and prints them as a markdown table, each with how it was
// measured. It is a report, not a test: nothing passes or fails on timing.
//
// Every figure runs the real parts: the gateway (gateway.New and Run over a
// config.Parse'd TOML), a bbolt store in a temporary directory, and simulated
// modems (modem/sim) on pseudo-terminals reached through the real serial
// stack. Figure (e) builds and runs the real vigie binary as a subprocess.
//
//	go run ./cmd/vigie-bench                   # every figure, < 8 minutes
//	go run ./cmd/vigie-bench -only b -n 240 -delay 100ms
//
// The figures:
//
//	a  messages per second end to end with zero send delay: the gateway's own cost
//	g  the same with 500 and with 6,000 subscribers in the database (issue #15)
//	b  modem utilisation on 1, 2 and 4 modems with a fixed per-SMS delay
//	c  pick-up latency of one message queued into an idle daemon
//	d  time to accept an alert to 6,000 recipients
//	e  the daemon's RSS with 6,000 subscribers and 10,000 queued messages, and the database per queued message
//	w  bytes written to disk, commits and fdatasyncs per SMS sent, 1,000 of 6,000 subscribers (issue #15)
//	s  the suppression list's keyed hash, and importing 6,000 rows once a number was erased
//	f  time to an alert's last SMS with 30 % of sends refused, over the time without errors
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"
)

// figureNames are the figures, in the order they are run and printed.
var figureNames = []string{"a", "g", "b", "c", "d", "e", "w", "f", "s"}

// options are the harness's flags.
type options struct {
	n       int           // messages of (a) and (b); 0: each figure's default
	delay   time.Duration // per-SMS send delay of (b)
	only    []string      // figures to run
	hold    time.Duration // how long (e) lets the daemon run
	vigie   string        // prebuilt vigie binary for (e); empty: go build it
	verbose bool
}

// row is one line of the table.
type row struct {
	figure, result, how string
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "vigie-bench:", err)
		os.Exit(1)
	}
}

// run parses args, runs the chosen figures and prints the table to stdout.
// A figure that fails gets its error in the table and makes run fail, after
// the others have run.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	opts, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	log := slog.New(slog.DiscardHandler)
	if opts.verbose {
		log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	b := &bench{opts: opts, log: log, progress: stderr, procs: runtime.GOMAXPROCS(0)}
	figures := map[string]func(context.Context) ([]row, error){
		"a": b.throughput,
		"b": b.utilisation,
		"c": b.pickup,
		"d": b.accept,
		"e": b.rss,
		"s": b.suppression,
		"f": b.retries,
		"g": b.growth,
		"w": b.wear,
	}
	began := time.Now()
	var rows []row
	var errs []error
	for _, name := range opts.only {
		if ctx.Err() != nil {
			break
		}
		fmt.Fprintf(stderr, "vigie-bench: figure (%s)…\n", name)
		rs, err := figures[name](ctx)
		rows = append(rows, rs...)
		if err != nil {
			rows = append(rows, row{"(" + name + ")", "error: " + err.Error(), ""})
			errs = append(errs, fmt.Errorf("figure (%s): %w", name, err))
		}
	}
	fmt.Fprintf(stdout, "Vigie delivery engine — %s, %s/%s, %d CPUs, %s, harness %.0f s\n\n",
		runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(),
		time.Now().Format("2006-01-02"), time.Since(began).Seconds())
	writeTable(stdout, rows)
	if ctx.Err() != nil {
		errs = append(errs, ctx.Err())
	}
	return errors.Join(errs...)
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("vigie-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var opts options
	var only string
	fs.IntVar(&opts.n, "n", 0, "messages of figures (a) and (b); 0: 500 for (a), 48 for (b)")
	fs.DurationVar(&opts.delay, "delay", 500*time.Millisecond, "per-SMS send delay of the simulated modems in (b); 0.5 s is the emulated modem of the figures quoted for other daemons")
	fs.StringVar(&only, "only", strings.Join(figureNames, ","), "figures to run, comma-separated: "+strings.Join(figureNames, ","))
	fs.DurationVar(&opts.hold, "hold", 5*time.Second, "how long (e) lets the daemon run before reading its peak RSS")
	fs.StringVar(&opts.vigie, "vigie", "", "vigie binary for (e); empty: go build ./cmd/vigie into a temp dir")
	fs.BoolVar(&opts.verbose, "v", false, "debug logs of the gateway and the simulated modems on stderr")
	if err := fs.Parse(args); err != nil {
		return options{}, err
	}
	if fs.NArg() > 0 {
		return options{}, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if opts.n < 0 || opts.delay <= 0 || opts.hold <= 0 {
		return options{}, errors.New("-n must be >= 0, -delay and -hold > 0")
	}
	var err error
	if opts.only, err = parseOnly(only); err != nil {
		return options{}, err
	}
	return opts, nil
}

// parseOnly reads "a,c" into the figures to run, in table order.
func parseOnly(s string) ([]string, error) {
	want := map[string]bool{}
	for f := range strings.SplitSeq(s, ",") {
		f = strings.ToLower(strings.Trim(strings.TrimSpace(f), "()"))
		if f == "" {
			continue
		}
		if !slices.Contains(figureNames, f) {
			return nil, fmt.Errorf("-only: unknown figure %q (want some of %s)", f, strings.Join(figureNames, ","))
		}
		want[f] = true
	}
	if len(want) == 0 {
		return nil, errors.New("-only: no figure given")
	}
	var only []string
	for _, f := range figureNames {
		if want[f] {
			only = append(only, f)
		}
	}
	return only, nil
}

// writeTable prints rows as a markdown table.
func writeTable(w io.Writer, rows []row) {
	esc := func(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
	fmt.Fprintln(w, "| Figure | Result | How it was measured |")
	fmt.Fprintln(w, "|---|---|---|")
	for _, r := range rows {
		fmt.Fprintf(w, "| %s | %s | %s |\n", esc(r.figure), esc(r.result), esc(r.how))
	}
}
