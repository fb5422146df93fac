package gateway

import (
	"reflect"
	"testing"

	"vigie/gateway/apitype"
	"vigie/gateway/config"
	"vigie/gateway/zone"
)

// TestReportZones: the filter of a report takes a zone by id, name or
// alias, names it, counts it once, and refuses a typo with its suggestion.
func TestReportZones(t *testing.T) {
	cfg, err := config.Load("../configs/vigie.toml")
	if err != nil {
		t.Fatal(err)
	}
	zones, err := zone.New(cfg.Zones)
	if err != nil {
		t.Fatal(err)
	}
	g := &Gateway{zones: zones}
	named, ids, err := g.reportZones([]string{"MACON", "macon", "Charnay-lès-Mâcon"})
	if err != nil {
		t.Fatal(err)
	}
	want := []apitype.NamedCount{{ID: "macon", Name: "Mâcon"}, {ID: "charnay", Name: "Charnay-lès-Mâcon"}}
	if !reflect.DeepEqual(named, want) || !reflect.DeepEqual(ids, []string{"macon", "charnay"}) {
		t.Errorf("got %+v %q, want %+v", named, ids, want)
	}
	if named, ids, err := g.reportZones(nil); err != nil || named != nil || ids != nil {
		t.Errorf("no filter: %+v %q %v", named, ids, err)
	}
	_, _, err = g.reportZones([]string{"macon", "macn"})
	if err == nil || err.Error() != "zone inconnue « macn » ; vouliez-vous dire « macon » (Mâcon) ?" {
		t.Errorf("typo: %v", err)
	}
}
