package apitype

// TestRequest asks for one test SMS (`vigie alert test`), sent ahead of
// alerts. An empty Text gets the default test text.
type TestRequest struct {
	To   string `json:"to"`
	Text string `json:"text,omitempty"`
}

// TestResult is the queued test SMS.
type TestResult struct {
	Message
	Text     string `json:"text"` // as it is sent
	Encoding string `json:"encoding"`
	Parts    int    `json:"parts"`
}
