package store

import (
	"path/filepath"
	"testing"
	"time"
)

func TestStateSurvivesReopening(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vigie.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	type canary struct {
		ID   uint64    `json:"id"`
		Sent time.Time `json:"sent"`
	}
	var got canary
	if ok, err := s.LoadState("canary", &got); ok || err != nil {
		t.Fatalf("LoadState before any save = %v, %v", ok, err)
	}
	want := canary{ID: 42, Sent: time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)}
	if err := s.SaveState("canary", want); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err = Open(path); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if ok, err := s.LoadState("canary", &got); !ok || err != nil || got.ID != want.ID || !got.Sent.Equal(want.Sent) {
		t.Errorf("after reopening: %+v, %v, %v; want %+v", got, ok, err, want)
	}
	if err := s.Check(); err != nil {
		t.Errorf("Check with a saved state: %v", err)
	}
}
