package apitype

import "time"

// Subscriber is a shopkeeper's number and what it is subscribed to.
type Subscriber struct {
	Phone     string    `json:"phone"`
	Zones     []string  `json:"zones"`
	Trade     string    `json:"trade,omitempty"`
	Status    string    `json:"status"`
	Source    string    `json:"source"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}
