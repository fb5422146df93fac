// Package suggest owns the one measure of "almost the word" that Vigie uses
// to help people who mistype: a misspelt command or option in the CLI, a
// zone or trade, a configuration key, an SMS keyword. One measure, so that
// the CLI and the SMS side agree on what a typo is.
package suggest

import (
	"unicode/utf8"

	"vigie/gateway/fold"
)

// Distance is the optimal string alignment distance between a and b,
// counted in runes: insertions, deletions, substitutions and swaps of two
// adjacent letters each cost 1, the swap being the commonest typo on a
// keyboard ("sned" for "send" is 1, not 2). The words are compared as typed;
// callers fold them first when case and accents must not count.
func Distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) == 0 {
		return len(rb)
	}
	if len(rb) == 0 {
		return len(ra)
	}
	// Three rows are enough: a swap looks two rows back.
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d = min(d, prev2[j-2]+1)
			}
			cur[j] = d
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

// Limit is how far a word may be from a known one and still be taken for a
// typo of it: none for words of up to 3 letters (every short word is a
// neighbour of many others), 1 up to 6 letters, 2 beyond. Length is that of
// the known word, folded.
func Limit(known string) int {
	switch n := utf8.RuneCountInString(known); {
	case n <= 3:
		return 0
	case n <= 6:
		return 1
	}
	return 2
}

// Nearest returns the candidate word is a likely typo of: compared folded
// (fold.Key: case, accents, spaces and punctuation do not count), within
// Limit of that candidate, and strictly nearer than any other candidate,
// so that an ambiguous typo suggests nothing rather than a guess. An exact
// match is not a suggestion: it returns false, the caller knows the word.
// Candidates that fold the same are one candidate (the first is returned).
func Nearest(word string, candidates []string) (string, bool) {
	i, ok := NearestOf(word, len(candidates), func(i int) []string { return candidates[i : i+1] })
	if !ok {
		return "", false
	}
	return candidates[i], true
}

// NearestOf is Nearest over n items that each go by several words (a zone:
// its id, name and aliases): it returns the index of the item word is a
// likely typo of. Two words of the same item near word are no ambiguity;
// two items are, unless one is strictly nearer.
func NearestOf(word string, n int, words func(i int) []string) (int, bool) {
	w := fold.Key(word)
	if w == "" {
		return 0, false
	}
	best, bestKey, bestD, tie := -1, "", -1, false
	for i := range n {
		for _, c := range words(i) {
			k := fold.Key(c)
			if k == "" {
				continue
			}
			if k == w {
				return 0, false
			}
			d := Distance(w, k)
			if d > Limit(k) {
				continue
			}
			switch {
			case bestD < 0 || d < bestD:
				best, bestKey, bestD, tie = i, k, d, false
			case d == bestD && i != best && k != bestKey:
				tie = true
			}
		}
	}
	if bestD < 0 || tie {
		return 0, false
	}
	return best, true
}
