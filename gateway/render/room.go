package render

// Room is how many characters (septets or UTF-16 units, as Text.Chars) are
// left for an alert's own text in at most maxParts SMS once frame (the
// rendered prefix and signature, Render with an empty text) is counted,
// for a text in frame's encoding: a text that forces UCS-2 has less. It
// is negative when the frame alone does not fit.
func Room(frame Text, maxParts int) int {
	single, part := gsm7Single, gsm7Part
	if frame.Encoding == UCS2 {
		single, part = ucs2Single, ucs2Part
	}
	capacity := single
	if maxParts > 1 {
		capacity = maxParts * part
	}
	return capacity - frame.Chars
}
