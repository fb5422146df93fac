//go:build !linux

package usbreset

import "errors"

// resetNode has no usbfs to talk to: only the authorized file is tried.
func resetNode(string) error { return errors.New("USBDEVFS_RESET is Linux only") }
