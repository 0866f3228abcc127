package docs_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// guideBlock is one fenced code block of guide.md.
type guideBlock struct {
	lang string
	line int // of the opening fence, 1-based
	text []string
}

// guideBlocks returns every fenced block of md, and a problem for a fence
// that is never closed.
func guideBlocks(md string) ([]guideBlock, []string) {
	var blocks []guideBlock
	var problems []string
	var cur *guideBlock
	for i, line := range strings.Split(md, "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case cur == nil && strings.HasPrefix(trimmed, "```"):
			cur = &guideBlock{lang: strings.TrimSpace(strings.TrimPrefix(trimmed, "```")), line: i + 1}
		case cur != nil && trimmed == "```":
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			cur.text = append(cur.text, line)
		}
	}
	if cur != nil {
		problems = append(problems, fmt.Sprintf("guide.md:%d: code block never closed", cur.line))
	}
	return blocks, problems
}

// normalize trims every line and drops the blank ones, so that a block
// matches its source whatever its indentation.
func normalize(lines []string) []string {
	var out []string
	for _, l := range lines {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// containsRun reports whether want appears in have as a contiguous run.
func containsRun(have, want []string) bool {
	if len(want) == 0 {
		return true
	}
outer:
	for i := 0; i+len(want) <= len(have); i++ {
		for j := range want {
			if have[i+j] != want[j] {
				continue outer
			}
		}
		return true
	}
	return false
}

// TestGuideBlocks checks that every Go block of guide.md is code that
// compiles and runs: each must appear, line for line, in one of this
// package's test files, where an Example or a test exercises it. Every
// block must name its language, so a Go block cannot escape the check.
func TestGuideBlocks(t *testing.T) {
	md, err := os.ReadFile("guide.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks, problems := guideBlocks(string(md))
	for _, p := range problems {
		t.Error(p)
	}
	files, err := filepath.Glob("*_test.go")
	if err != nil {
		t.Fatal(err)
	}
	sources := map[string][]string{}
	for _, f := range files {
		if f == "guide_blocks_test.go" {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sources[f] = normalize(strings.Split(string(src), "\n"))
	}
	goBlocks := 0
	for _, b := range blocks {
		switch b.lang {
		case "":
			t.Errorf("guide.md:%d: code block without a language; use go, sh, text, ...", b.line)
			continue
		case "go":
		default:
			continue
		}
		goBlocks++
		want := normalize(b.text)
		if len(want) == 0 {
			t.Errorf("guide.md:%d: empty Go block", b.line)
			continue
		}
		found := false
		for _, have := range sources {
			if containsRun(have, want) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("guide.md:%d: Go block not found verbatim in docs/*_test.go:\n%s", b.line, strings.Join(b.text, "\n"))
		}
	}
	if goBlocks == 0 {
		t.Error("guide.md has no Go blocks")
	}
	t.Logf("%d Go blocks checked against %d files", goBlocks, len(sources))
}

// TestGuideLength keeps the guide a guide: at least 2500 words.
func TestGuideLength(t *testing.T) {
	md, err := os.ReadFile("guide.md")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(strings.Fields(string(md))); n < 2500 {
		t.Errorf("guide.md has %d words, want at least 2500", n)
	}
}
