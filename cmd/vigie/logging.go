package main

import (
	"context"
	"fmt"
	"log/slog"
	"slices"

	"vigie/gateway/phone"
)

// lastWins is a slog.Handler whose With replaces a key already set rather
// than repeating it: the gateway's logger says component=gateway, a modem
// worker's (derived from it) component=modem, and a journal line must
// carry one component, the most specific. Keys keep their first position.
// Attributes inside a group are passed through unchanged.
type lastWins struct {
	root  slog.Handler // the handler without any attribute
	attrs []slog.Attr  // top-level attributes, one per key
	inner slog.Handler // root with attrs (and groups, if any)
	group bool         // a group is open: attributes go to inner as is
}

var _ slog.Handler = (*lastWins)(nil)

func newLastWins(h slog.Handler) *lastWins { return &lastWins{root: h, inner: h} }

func (h *lastWins) Enabled(ctx context.Context, l slog.Level) bool { return h.inner.Enabled(ctx, l) }

func (h *lastWins) Handle(ctx context.Context, r slog.Record) error { return h.inner.Handle(ctx, r) }

func (h *lastWins) WithAttrs(attrs []slog.Attr) slog.Handler {
	if h.group {
		return &lastWins{root: h.root, attrs: h.attrs, inner: h.inner.WithAttrs(attrs), group: true}
	}
	merged := slices.Clone(h.attrs)
	for _, a := range attrs {
		if i := slices.IndexFunc(merged, func(b slog.Attr) bool { return b.Key == a.Key }); i >= 0 {
			merged[i] = a
		} else {
			merged = append(merged, a)
		}
	}
	return &lastWins{root: h.root, attrs: merged, inner: h.root.WithAttrs(merged)}
}

func (h *lastWins) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return &lastWins{root: h.root, attrs: h.attrs, inner: h.inner.WithGroup(name), group: true}
}

// masking is the journal's last guard for shopkeepers' numbers (SPEC §9):
// at info level and above, every number in the message and in string,
// error and Stringer values is masked (phone.MaskNumbers), whatever
// wrapped error brought it. Call sites mask their own fields with
// phone.Mask; debug lines keep what a developer needs, but for the
// attributes a logger is made With, which every level shares.
type masking struct{ inner slog.Handler }

var _ slog.Handler = masking{}

func (h masking) Enabled(ctx context.Context, l slog.Level) bool { return h.inner.Enabled(ctx, l) }

func (h masking) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < slog.LevelInfo {
		return h.inner.Handle(ctx, r)
	}
	out := slog.NewRecord(r.Time, r.Level, phone.MaskNumbers(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(maskAttr(a))
		return true
	})
	return h.inner.Handle(ctx, out)
}

func (h masking) WithAttrs(attrs []slog.Attr) slog.Handler {
	masked := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		masked[i] = maskAttr(a)
	}
	return masking{h.inner.WithAttrs(masked)}
}

func (h masking) WithGroup(name string) slog.Handler { return masking{h.inner.WithGroup(name)} }

// maskAttr masks the numbers in a's value when it is text.
func maskAttr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, phone.MaskNumbers(v.String()))
	case slog.KindGroup:
		g := v.Group()
		masked := make([]any, len(g))
		for i, ga := range g {
			masked[i] = maskAttr(ga)
		}
		return slog.Group(a.Key, masked...)
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			return slog.String(a.Key, phone.MaskNumbers(x.Error()))
		case fmt.Stringer:
			return slog.String(a.Key, phone.MaskNumbers(x.String()))
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}
