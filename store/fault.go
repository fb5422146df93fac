package store

import (
	"errors"
	"syscall"
)

// IsDiskFault reports whether err, from a Store method, is the file
// system's refusal to write — full, over quota, read-only, failing — rather
// than a refusal by the store's own rules. The same operation may succeed
// once a person has freed space or fixed the disk; the database itself is
// intact (bbolt rolls the transaction back).
func IsDiskFault(err error) bool {
	return DiskFull(err) || errors.Is(err, syscall.EROFS) || errors.Is(err, syscall.EIO) || errors.Is(err, syscall.EFBIG)
}

// DiskFull reports whether err is a write refused for lack of space (or of
// quota) on the database's file system.
func DiskFull(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}
