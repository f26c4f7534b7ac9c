package dataplane

import "testing"

// TestLuaString: a rewrite value can never end its Lua string literal or inject code.
func TestLuaString(t *testing.T) {
	for in, want := range map[string]string{
		"https://a.example/x?y=1": `"https://a.example/x?y=1"`,
		`a"b\c`:                   `"a\034b\092c"`,
		"a\nb]]--":                `"a\010b]]--"`,
		"é":                       `"\195\169"`,
	} {
		if got := luaString(in); got != want {
			t.Errorf("luaString(%q) = %s, want %s", in, got, want)
		}
	}
}
