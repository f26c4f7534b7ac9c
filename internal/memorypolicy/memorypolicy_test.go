package memorypolicy

import "testing"

func TestSoftMemoryLimit(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"max\n", 0, false},
		{"", 0, false},
		{"garbage", 0, false},
		{"0", 0, false},
		{"536870912\n", 483183820, true}, // 512 MiB → 90 %
	} {
		got, ok := SoftLimit(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("SoftLimit(%q) = %d, %v; want %d, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}
