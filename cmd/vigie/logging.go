package main

import (
	"context"
	"log/slog"
	"slices"
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
