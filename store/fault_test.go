package store

import (
	"fmt"
	"os"
	"syscall"
	"testing"
)

func TestIsDiskFault(t *testing.T) {
	wrap := func(errno syscall.Errno) error {
		return fmt.Errorf("store: save inbound part 1/1: %w", &os.PathError{Op: "write", Path: "/var/lib/vigie/vigie.db", Err: errno})
	}
	for _, tc := range []struct {
		err         error
		fault, full bool
	}{
		{wrap(syscall.ENOSPC), true, true},
		{wrap(syscall.EDQUOT), true, true},
		{wrap(syscall.EROFS), true, false},
		{wrap(syscall.EIO), true, false},
		{wrap(syscall.EACCES), false, false},
		{fmt.Errorf("store: apply inbound 3: %w", ErrProcessed), false, false},
		{nil, false, false},
	} {
		if got := IsDiskFault(tc.err); got != tc.fault {
			t.Errorf("IsDiskFault(%v) = %v, want %v", tc.err, got, tc.fault)
		}
		if got := DiskFull(tc.err); got != tc.full {
			t.Errorf("DiskFull(%v) = %v, want %v", tc.err, got, tc.full)
		}
	}
}
