package gateway

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"testing"

	"github.com/warthog618/modem/at"

	"vigie/gateway/apitype"
	"vigie/modem"
)

// The kind of a modem error, as the worker records it, survives the
// wrapping each layer adds: the CLI says it in French from the kind.
func TestErrorKind(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("open modem: %w", &fs.PathError{Op: "open", Path: "/dev/vigie-modem0", Err: os.ErrNotExist}), apitype.ErrKindNoDevice},
		{fmt.Errorf("open modem: %w", &fs.PathError{Op: "open", Path: "/dev/ttyUSB2", Err: os.ErrPermission}), apitype.ErrKindPermission},
		{fmt.Errorf("open: %w", modem.ErrPortBusy), apitype.ErrKindPortBusy},
		{fmt.Errorf("init: %w", modem.ErrSIMLocked), apitype.ErrKindSIMLocked},
		{fmt.Errorf("AT+CSQ: %w", modem.ErrTimeout), apitype.ErrKindTimeout},
		{fmt.Errorf("read: %w", modem.ErrClosed), apitype.ErrKindClosed},
		{fmt.Errorf("read: %w", at.ErrClosed), apitype.ErrKindClosed},
		{fmt.Errorf("AT+COPS?: %w", modem.ErrBadResponse), apitype.ErrKindBadResponse},
		{fmt.Errorf("send: %w", at.CMSError("21")), apitype.ErrKindNetwork},
		{fmt.Errorf("send: %w", at.CMEError("10")), apitype.ErrKindNetwork},
		{errors.New("something else"), apitype.ErrKindOther},
	} {
		if got := errorKind(c.err); got != c.want {
			t.Errorf("errorKind(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}
