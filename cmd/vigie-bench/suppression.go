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
			fmt.Sprintf("%.1f s here on %d CPUs (%.1f s before any erasure); Pi 4 ≈ %.0f s on its %d cores, %.0f s on one",
				imported.Seconds(), runtime.GOMAXPROCS(0), empty.Seconds(), (piOne / piCores).Seconds(), piCores, piOne.Seconds()),
			fmt.Sprintf("store.Import of %d numbers, median of %d dry runs; the hashes are computed on every CPU before the transaction; Pi 4 = rows × Pi hash ÷ cores (brief: under a minute)", suppressionRows, suppressionRuns),
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
