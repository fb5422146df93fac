package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// A figure that times a simulated modem's 90 ms sends on a machine shared
// with other work measures that work too. The kernel's pressure stall
// information says how long runnable tasks waited for a CPU, so a run can
// say how busy the machine was while it ran.

// cpuStalled is the system's cumulative time during which some runnable
// task waited for a CPU (/proc/pressure/cpu, "some" total); false where the
// kernel does not say (no PSI, another OS).
func cpuStalled() (time.Duration, bool) {
	f, err := os.Open("/proc/pressure/cpu")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	d, err := parsePressure(f)
	return d, err == nil
}

// parsePressure reads the "some" line's total (microseconds) of a
// /proc/pressure file.
func parsePressure(r io.Reader) (time.Duration, error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || f[0] != "some" {
			continue
		}
		for _, kv := range f[1:] {
			v, ok := strings.CutPrefix(kv, "total=")
			if !ok {
				continue
			}
			us, err := strconv.ParseInt(v, 10, 64)
			if err != nil || us < 0 || us > int64(1<<63-1)/int64(time.Microsecond) {
				return 0, fmt.Errorf("pressure: unexpected total %q", v)
			}
			return time.Duration(us) * time.Microsecond, nil
		}
		return 0, errors.New("pressure: no total on the some line")
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("pressure: %w", err)
	}
	return 0, errors.New("pressure: no some line")
}

// stallShare is the share of wall during which the machine had a task
// waiting for a CPU, as "CPU stall 3 %"; empty when unknown.
func stallShare(stalled time.Duration, known bool, wall time.Duration) string {
	if !known || wall <= 0 {
		return ""
	}
	return fmt.Sprintf("CPU stall %.0f %%", 100*stalled.Seconds()/wall.Seconds())
}
