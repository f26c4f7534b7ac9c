package sources

import (
	"encoding/json"
	"reflect"
	"testing"
)

// scanAgrees checks the scanner against json.Unmarshal on data (valid JSON): the header
// and the list items it is sure of are json.Unmarshal's.
func scanAgrees(t *testing.T, data []byte) {
	t.Helper()
	if !json.Valid(data) {
		return
	}
	if h, ok := scanHeader(data); ok {
		var want typeHeader
		if err := json.Unmarshal(data, &want); err != nil || !reflect.DeepEqual(h, want) {
			t.Fatalf("scanHeader read %+v, json.Unmarshal %+v (%v), of %s", h, want, err, data)
		}
	}
	if items, list, sure := splitJSONList(data); sure {
		want, wantList := listItemsByUnmarshal(data)
		if list != wantList || len(items) != len(want) {
			t.Fatalf("splitJSONList: list %v, %d items; json.Unmarshal: list %v, %d items, of %s", list, len(items), wantList, len(want), data)
		}
		for i := range items {
			if string(items[i]) != string(want[i]) {
				t.Fatalf("splitJSONList item %d is %s, json.Unmarshal's %s", i, items[i], want[i])
			}
		}
	}
}

// TestJSONScan: the scanner reads headers and lists as json.Unmarshal does, and leaves to
// it what it is not sure of.
func TestJSONScan(t *testing.T) {
	for _, c := range []struct {
		data       string
		headerSure bool
		listSure   bool
	}{
		{`{"apiVersion":"v1","kind":"Service","metadata":{"name":"a","namespace":"b","labels":{"name":"x"}},"spec":{"metadata":{"name":"y"}}}`, true, true},
		{`{"kind":"List","items":[{"a":1}, [1,2], "s\"]", null, 1.5e3, true]}`, false, true},
		{`[ {"kind":"Service"} , {} ] `, false, true},
		{` [{}]`, false, false},
		{`{"Kind":"Service"}`, false, false},
		{`{"ki\u006ed":"Service"}`, false, false},
		{`{"kind":"S\u0065rvice"}`, false, false},
		{`{"kind":1}`, false, false},
		{`{"kind":"A","kind":null,"metadata":{"name":"a"},"metadata":{"namespace":"b"},"metadata":null}`, true, true},
		{`{"metadata":"x"}`, false, true},
		{`{"kind":"PodList","items":{"a":1}}`, false, false},
		{`{"kind":"PodList","items":null}`, false, true},
		{`{"kind":"PodList"}`, true, true},
		{`"str"`, false, false},
		{`{}`, true, true},
		// Invalid UTF-8 passes json.Valid; json.Unmarshal reads each bad byte as U+FFFD.
		{"{\"kind\":\"Foo\xff\",\"metadata\":{\"name\":\"a\xffb\"}}", false, false},
		{"{\"kind\":\"Service\",\"metadata\":{\"namespace\":\"\xc3\"}}", false, true},
	} {
		data := []byte(c.data)
		scanAgrees(t, data)
		if _, ok := scanHeader(data); ok != c.headerSure {
			t.Errorf("scanHeader(%s): sure %v, want %v", data, ok, c.headerSure)
		}
		if _, _, sure := splitJSONList(data); sure != c.listSure {
			t.Errorf("splitJSONList(%s): sure %v, want %v", data, sure, c.listSure)
		}
	}
}

// FuzzJSONScan: on any valid JSON, what the scanner is sure of is what json.Unmarshal
// reads; on anything else it never panics.
func FuzzJSONScan(f *testing.F) {
	f.Add([]byte(`{"apiVersion":"v1","kind":"List","items":[{"kind":"Service","metadata":{"name":"a"}}]}`))
	f.Add([]byte(`[{"metadata":{"namespace":"x","name":"y"}},null]`))
	f.Add([]byte(`{"kind":"A","KIND":"B"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		scanAgrees(t, data)
		_, _ = scanHeader(data)
		_, _, _ = splitJSONList(data)
	})
}
