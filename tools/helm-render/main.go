// helm-render renders a Helm chart's templates the way `helm template` does, for the checks in
// tests/integration/deploy_files.test.js (Helm itself is not packaged in Debian). It uses Go's
// text/template with the sprig v3 functions, as Helm does, plus Helm's own built-ins that
// Parlor's chart uses: include, tpl, toYaml, fromYaml, required, fail, and the .Release, .Chart,
// .Values, .Capabilities and .Template objects. Values come from the chart's values.yaml,
// overridden in order by -f files and --set / --set-string pairs (dotted paths; {a,b} lists).
//
// Build and run in GOPATH mode against Debian's Go packages (scripts/deps.sh installs them):
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go run ./tools/helm-render [flags] deploy/helm/parlor
//
// Output: every rendered manifest that is not blank, each after "---" and a "# Source:" line,
// sorted by template path. Errors (a template that fails, a required value that is missing) go
// to stderr with exit status 1; bad usage exits 2.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/template"

	sprig "github.com/Masterminds/sprig"
	"gopkg.in/yaml.v3"
)

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	var valueFiles, sets, setStrings listFlag
	release := flag.String("release", "parlor", "release name (.Release.Name)")
	namespace := flag.String("namespace", "default", "namespace (.Release.Namespace)")
	flag.Var(&valueFiles, "f", "a values file to merge over the chart's values.yaml (repeatable)")
	flag.Var(&sets, "set", "path.to.key=value, typed like YAML scalars; {a,b} is a list (repeatable)")
	flag.Var(&setStrings, "set-string", "path.to.key=value, always a string (repeatable)")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: helm-render [-release NAME] [-namespace NS] [-f values.yaml]... [-set k=v]... CHART_DIR\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	out, err := render(flag.Arg(0), *release, *namespace, valueFiles, sets, setStrings)
	if err != nil {
		fmt.Fprintf(os.Stderr, "helm-render: %v\n", err)
		os.Exit(1)
	}
	os.Stdout.WriteString(out)
}

func readYAMLMap(file string) (map[string]interface{}, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	m := map[string]interface{}{}
	if err := yaml.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: %v", file, err)
	}
	return m, nil
}

// merge lays src over dst: maps merge key by key, anything else replaces (Helm's coalescing; a
// null in src deletes the key, as in Helm).
func merge(dst, src map[string]interface{}) map[string]interface{} {
	for k, v := range src {
		if v == nil {
			delete(dst, k)
			continue
		}
		sm, sok := v.(map[string]interface{})
		dm, dok := dst[k].(map[string]interface{})
		if sok && dok {
			dst[k] = merge(dm, sm)
		} else {
			dst[k] = v
		}
	}
	return dst
}

func parseScalar(v string) interface{} {
	switch v {
	case "true":
		return true
	case "false":
		return false
	case "null":
		return nil
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return n
	}
	return v
}

func setPath(values map[string]interface{}, assignment string, asString bool) error {
	eq := strings.Index(assignment, "=")
	if eq <= 0 {
		return fmt.Errorf("--set %q: expected path=value", assignment)
	}
	keys := strings.Split(assignment[:eq], ".")
	raw := assignment[eq+1:]
	var value interface{} = raw
	if !asString {
		if strings.HasPrefix(raw, "{") && strings.HasSuffix(raw, "}") {
			var list []interface{}
			if inner := raw[1 : len(raw)-1]; inner != "" {
				for _, item := range strings.Split(inner, ",") {
					list = append(list, parseScalar(item))
				}
			}
			value = list
		} else {
			value = parseScalar(raw)
		}
	}
	m := values
	for i, k := range keys {
		if k == "" {
			return fmt.Errorf("--set %q: empty key in the path", assignment)
		}
		if i == len(keys)-1 {
			m[k] = value
			break
		}
		next, ok := m[k].(map[string]interface{})
		if !ok {
			next = map[string]interface{}{}
			m[k] = next
		}
		m = next
	}
	return nil
}

func toYAML(v interface{}) (string, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	enc.Close()
	return strings.TrimSuffix(buf.String(), "\n"), nil
}

func render(chartDir, release, namespace string, valueFiles, sets, setStrings []string) (string, error) {
	meta, err := readYAMLMap(filepath.Join(chartDir, "Chart.yaml"))
	if err != nil {
		return "", err
	}
	name, _ := meta["name"].(string)
	if name == "" {
		return "", errors.New("Chart.yaml has no name")
	}
	values, err := readYAMLMap(filepath.Join(chartDir, "values.yaml"))
	if err != nil {
		return "", err
	}
	for _, f := range valueFiles {
		over, err := readYAMLMap(f)
		if err != nil {
			return "", err
		}
		values = merge(values, over)
	}
	for _, s := range sets {
		if err := setPath(values, s, false); err != nil {
			return "", err
		}
	}
	for _, s := range setStrings {
		if err := setPath(values, s, true); err != nil {
			return "", err
		}
	}

	// Helm's .Chart fields are the capitalised Chart.yaml keys.
	chart := map[string]interface{}{}
	for k, v := range meta {
		chart[strings.ToUpper(k[:1])+k[1:]] = v
	}

	root := template.New("gotpl")
	funcs := sprig.TxtFuncMap()
	delete(funcs, "env") // Helm leaves the environment out of templates
	delete(funcs, "expandenv")
	funcs["toYaml"] = func(v interface{}) string {
		s, err := toYAML(v)
		if err != nil {
			return "" // Helm's toYaml also swallows the error
		}
		return s
	}
	funcs["fromYaml"] = func(s string) map[string]interface{} {
		m := map[string]interface{}{}
		if err := yaml.Unmarshal([]byte(s), &m); err != nil {
			m["Error"] = err.Error()
		}
		return m
	}
	funcs["required"] = func(msg string, v interface{}) (interface{}, error) {
		if v == nil {
			return nil, errors.New(msg)
		}
		if s, ok := v.(string); ok && s == "" {
			return nil, errors.New(msg)
		}
		return v, nil
	}
	funcs["fail"] = func(msg string) (string, error) { return "", errors.New(msg) }
	funcs["include"] = func(name string, data interface{}) (string, error) {
		var buf strings.Builder
		err := root.ExecuteTemplate(&buf, name, data)
		return buf.String(), err
	}
	funcs["tpl"] = func(text string, data interface{}) (string, error) {
		t, err := root.Clone()
		if err != nil {
			return "", err
		}
		t, err = t.New("tpl").Parse(text)
		if err != nil {
			return "", err
		}
		var buf strings.Builder
		err = t.Execute(&buf, data)
		return buf.String(), err
	}
	funcs["lookup"] = func(string, string, string, string) (map[string]interface{}, error) {
		return map[string]interface{}{}, nil // no cluster here, as with `helm template`
	}
	root.Funcs(funcs).Option("missingkey=zero")

	templatesDir := filepath.Join(chartDir, "templates")
	entries, err := os.ReadDir(templatesDir)
	if err != nil {
		return "", err
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		ext := filepath.Ext(e.Name())
		if ext != ".yaml" && ext != ".yml" && ext != ".tpl" && ext != ".txt" {
			continue
		}
		text, err := os.ReadFile(filepath.Join(templatesDir, e.Name()))
		if err != nil {
			return "", err
		}
		tname := path.Join(name, "templates", e.Name())
		if _, err := root.New(tname).Parse(string(text)); err != nil {
			return "", err
		}
		names = append(names, tname)
	}
	sort.Strings(names)

	var out strings.Builder
	for _, tname := range names {
		base := path.Base(tname)
		if strings.HasPrefix(base, "_") || path.Ext(base) == ".txt" {
			continue // partials and NOTES.txt are not manifests
		}
		data := map[string]interface{}{
			"Values": values,
			"Chart":  chart,
			"Release": map[string]interface{}{
				"Name": release, "Namespace": namespace, "Service": "Helm",
				"IsInstall": true, "IsUpgrade": false, "Revision": 1,
			},
			"Capabilities": map[string]interface{}{
				"KubeVersion": map[string]interface{}{"Version": "v1.28.0", "Major": "1", "Minor": "28"},
			},
			"Template": map[string]interface{}{"Name": tname, "BasePath": path.Join(name, "templates")},
		}
		var buf strings.Builder
		if err := root.ExecuteTemplate(&buf, tname, data); err != nil {
			return "", err
		}
		text := strings.ReplaceAll(buf.String(), "<no value>", "")
		if strings.TrimSpace(text) == "" {
			continue
		}
		fmt.Fprintf(&out, "---\n# Source: %s\n%s\n", tname, strings.TrimLeft(text, "\n"))
	}
	return out.String(), nil
}
