package config

import (
	"reflect"
	"strings"

	"vigie/gateway/suggest"
)

// unknownKey words the error of an unknown key at path ("modem[1].sped"),
// suggesting the known key of the same table it is a likely typo of.
func unknownKey(path string) string {
	table, key := "", path
	if i := strings.LastIndex(path, "."); i >= 0 {
		table, key = path[:i], path[i+1:]
	}
	if s, ok := suggest.Nearest(key, knownKeys(table)); ok {
		return "clé inconnue ; vouliez-vous dire « " + s + " » ?"
	}
	return "clé inconnue"
}

// knownKeys lists the keys the table at path ("", "sms", "modem[0]") can
// hold, read from the toml tags of raw: one list, the decoder's own.
func knownKeys(path string) []string {
	t := reflect.TypeFor[raw]()
	if path != "" {
		for _, name := range strings.Split(unindexed(path), ".") {
			f, ok := fieldByTag(t, name)
			if !ok {
				return nil
			}
			t = f.Type
			for t.Kind() == reflect.Slice || t.Kind() == reflect.Pointer {
				t = t.Elem()
			}
			if t.Kind() != reflect.Struct {
				return nil
			}
		}
	}
	var keys []string
	for i := range t.NumField() {
		if tag := t.Field(i).Tag.Get("toml"); tag != "" && tag != "-" {
			keys = append(keys, strings.Split(tag, ",")[0])
		}
	}
	return keys
}

func fieldByTag(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		if strings.Split(t.Field(i).Tag.Get("toml"), ",")[0] == name {
			return t.Field(i), true
		}
	}
	return reflect.StructField{}, false
}
