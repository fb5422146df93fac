package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"time"

	"vigie/store"
)

// Figure (s) sizes and the Pi estimate.
const (
	suppressionRows   = 6000
	suppressionHashes = 40
	suppressionRuns   = 2
	// piSlowdown is how much slower a Raspberry Pi 4 core is than this
	// harness's, per the project's measure (3 to 4×): the upper end, so the
	// estimate errs on the slow side.
	piSlowdown = 4.0
	piCores    = 4
)

// suppression measures figure (s): the suppression list's keyed hash and
// an import of 6,000 new numbers once a number was erased (every row then
// needs its hash), on a real store file, and estimates both on a Pi 4. The
// send path computes no hash (store tests prove it), so it has no figure.
func (b *bench) suppression(ctx context.Context) ([]row, error) {
	dir, err := os.MkdirTemp("", "vigie-bench-s-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	st, err := store.Open(filepath.Join(dir, "vigie.db"))
	if err != nil {
		return nil, err
	}
	defer st.Close()
	now := time.Now()
	es := make([]store.Enrolment, suppressionRows)
	for i := range es {
		es[i] = store.Enrolment{Phone: fmt.Sprintf("+3361%07d", i), Zones: []string{zoneCity}, Source: store.SourceImport}
	}
	empty, err := timeImport(ctx, st, es, now)
	if err != nil {
		return nil, err
	}
	if _, err := st.EraseSubscriber("+33699999999", now); err != nil {
		return nil, err
	}

	hashes := make([]time.Duration, 0, suppressionHashes)
	for i := range suppressionHashes {
		t0 := time.Now()
		if _, err := st.Suppressed(fmt.Sprintf("+3362%07d", i)); err != nil {
			return nil, err
		}
		hashes = append(hashes, time.Since(t0))
	}
	slices.Sort(hashes)
	hash := median(hashes)
	imported, err := timeImport(ctx, st, es, now)
	if err != nil {
		return nil, err
	}
	// An erasure compacts the whole file, all store calls waiting: its
	// time on a database of that size (6,000 subscribers, two alerts
	// to all of them, queued).
	if _, err := st.Import(es, false, now); err != nil {
		return nil, err
	}
	phones := make([]string, len(es))
	for i, e := range es {
		phones[i] = e.Phone
	}
	for range 2 {
		if _, err := st.CreateAlert(store.Alert{Author: "bench", Zones: []string{zoneCity}, Text: alertText,
			Rendered: alertText, Encoding: "GSM7", Parts: 1}, phones, now); err != nil {
			return nil, err
		}
	}
	fi, err := os.Stat(filepath.Join(dir, "vigie.db"))
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	if _, err := st.EraseSubscriber(es[len(es)/2].Phone, now); err != nil {
		return nil, err
	}
	erase := time.Since(t0)
	after, err := os.Stat(filepath.Join(dir, "vigie.db"))
	if err != nil {
		return nil, err
	}

	cpus := runtime.GOMAXPROCS(0)
	piHash := time.Duration(float64(hash) * piSlowdown)
	piOne := piHash * suppressionRows
	return []row{
		{
			"(s) suppression hash of one number",
			fmt.Sprintf("%s here; Pi 4 ≈ %s", milli(hash), milli(piHash)),
			fmt.Sprintf("%s under the key file's key; store.Suppressed of %d unknown numbers after one erasure, median; Pi 4 = ×%.0f", store.SuppressionHash, suppressionHashes, piSlowdown),
		},
		{
			"(s) import 6,000 rows once a number was erased",
			fmt.Sprintf("%.1f s here on %d CPUs (%.1f s before any erasure); Pi 4 ≈ %.0f s on its %d cores, %.0f s on one (from the import measured here: ≈ %.0f s on its %d cores)",
				imported.Seconds(), cpus, empty.Seconds(), (piOne / piCores).Seconds(), piCores, piOne.Seconds(),
				imported.Seconds()*piSlowdown*float64(cpus)/piCores, piCores),
			fmt.Sprintf("store.Import of %d numbers, median of %d dry runs; the hashes are computed on every CPU before the transaction; Pi 4 = rows × Pi hash ÷ cores, or the import here × %.0f × CPUs here ÷ %d, which counts this machine's load (brief: under a minute)", suppressionRows, suppressionRuns, piSlowdown, piCores),
		},
		{
			"(s) erase one number: the file compacted",
			fmt.Sprintf("%.2f s here (file %.1f MB → %.1f MB); Pi 4 ≈ %.1f s, every store call waiting meanwhile",
				erase.Seconds(), float64(fi.Size())/1e6, float64(after.Size())/1e6, erase.Seconds()*piSlowdown),
			fmt.Sprintf("store.EraseSubscriber on a database of %d subscribers and %d queued alert messages, once", suppressionRows, 2*suppressionRows),
		},
	}, nil
}

// timeImport is the median time of suppressionRuns dry-run imports of es.
func timeImport(ctx context.Context, st *store.Store, es []store.Enrolment, now time.Time) (time.Duration, error) {
	took := make([]time.Duration, 0, suppressionRuns)
	for range suppressionRuns {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		t0 := time.Now()
		if _, err := st.Import(es, true, now); err != nil {
			return 0, err
		}
		took = append(took, time.Since(t0))
	}
	slices.Sort(took)
	return median(took), nil
}
