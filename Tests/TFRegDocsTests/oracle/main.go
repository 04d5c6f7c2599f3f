// The oracle for TFRegDocsTests: hashicorp/hcl/v2's own parser (Debian's golang-github-hashicorp-hcl-v2-dev)
// prints, for each .tf file named on the command line, one JSON line per `variable` block: its type's
// source text, its default as JSON (go-cty's encoding; the source text as a JSON string when it is not
// a constant) and whether it is required (no `default` argument), after a line saying the file parsed
// and one per top-level argument (source text and value the same way); or the line of the first error.
package main

import (
	"bytes"
	"encoding/json"
	"os"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

func canonical(raw []byte) string { // keys sorted, no HTML escaping, numbers as written
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v interface{}
	if d.Decode(&v) != nil {
		return string(raw)
	}
	var out bytes.Buffer
	e := json.NewEncoder(&out)
	e.SetEscapeHTML(false)
	e.Encode(v)
	return string(bytes.TrimRight(out.Bytes(), "\n"))
}

// value is an expression's value as canonical JSON, or its source text as a JSON string.
func value(e hclsyntax.Expression, src []byte) string {
	text, _ := json.Marshal(string(e.Range().SliceBytes(src)))
	if v, d := e.Value(nil); !d.HasErrors() && v.IsWhollyKnown() {
		if j, err := ctyjson.Marshal(v, v.Type()); err == nil {
			text = j
		}
	}
	return canonical(text)
}

func main() {
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	for _, path := range os.Args[1:] {
		src, _ := os.ReadFile(path)
		f, diags := hclsyntax.ParseConfig(src, path, hcl.Pos{Line: 1, Column: 1})
		if diags.HasErrors() {
			enc.Encode(map[string]interface{}{"file": path, "error": diags[0].Subject.Start.Line})
			continue
		}
		enc.Encode(map[string]interface{}{"file": path, "parsed": true})
		for name, a := range f.Body.(*hclsyntax.Body).Attributes { // top-level arguments too
			source := string(a.Expr.Range().SliceBytes(src))
			enc.Encode(map[string]interface{}{"file": path, "attribute": name, "source": source, "value": value(a.Expr, src)})
		}
		for _, b := range f.Body.(*hclsyntax.Body).Blocks {
			if b.Type != "variable" || len(b.Labels) != 1 {
				continue
			}
			out := map[string]interface{}{"file": path, "name": b.Labels[0], "required": true}
			if a, ok := b.Body.Attributes["type"]; ok {
				out["type"] = string(a.Expr.Range().SliceBytes(src))
			}
			if a, ok := b.Body.Attributes["default"]; ok {
				out["required"] = false
				out["default"] = value(a.Expr, src)
			}
			enc.Encode(out)
		}
	}
}
