package notify

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"strconv"
	"strings"
	texttemplate "text/template"
	"unicode"

	icymorning "github.com/icy-morning/icy-morning"
	"github.com/icy-morning/icy-morning/mail"
)

//go:embed templates
var templateFS embed.FS

// templates are the two parts of a notification, parsed once. The HTML one
// is html/template, so an asset's name or description cannot inject markup.
type templates struct {
	text *texttemplate.Template
	html *htmltemplate.Template
}

func loadTemplates() (*templates, error) {
	text, err := texttemplate.ParseFS(templateFS, "templates/notification.txt")
	if err != nil {
		return nil, fmt.Errorf("notify: %w", err)
	}
	html, err := htmltemplate.ParseFS(templateFS, "templates/notification.html")
	if err != nil {
		return nil, fmt.Errorf("notify: %w", err)
	}
	return &templates{text: text, html: html}, nil
}

// view is what the templates see.
type view struct {
	Subject, Headline string
	Asset             assetView
	AssetURL          string // "" for a deletion: the asset is gone
	Email             string
	Topic             icymorning.Topic
	AnalystScoped     bool
	UnsubscribeURL    string
}

type assetView struct {
	Name, Description, InceptionDate string
	IsActive                         bool
	AnalystID                        int64
}

// Compose writes the mail that tells subscription sub about event ev. The
// same (event, subscription) always gives the same Message-ID, so a
// receiver can drop a resend.
func (c *Composer) Compose(ev *icymorning.Event, sub *icymorning.Subscription) (mail.Message, error) {
	name := oneLine(ev.Asset.Name)
	var headline string
	switch ev.Topic {
	case icymorning.TopicAssetCreation:
		headline = "New asset: " + name
	case icymorning.TopicAssetUpdate:
		headline = "Asset updated: " + name
	case icymorning.TopicAssetDeletion:
		headline = "Asset deleted: " + name
	default:
		return mail.Message{}, fmt.Errorf("notify: no mail for topic %q", ev.Topic)
	}
	v := view{
		Subject: headline, Headline: headline,
		Asset: assetView{Name: ev.Asset.Name, InceptionDate: ev.Asset.InceptionDate.String(),
			IsActive: ev.Asset.IsActive, AnalystID: ev.AnalystID},
		Email: sub.Email, Topic: sub.Topic, AnalystScoped: sub.AnalystID != nil,
		UnsubscribeURL: c.UnsubscribeURL(sub.ID),
	}
	if ev.Asset.Description != nil {
		v.Asset.Description = *ev.Asset.Description
	}
	if ev.Topic != icymorning.TopicAssetDeletion {
		v.AssetURL = c.link("api/v1/assets/" + strconv.FormatInt(ev.AssetID, 10))
	}
	var text, html bytes.Buffer
	if err := c.tmpl.text.Execute(&text, v); err != nil {
		return mail.Message{}, fmt.Errorf("notify: text part: %w", err)
	}
	if err := c.tmpl.html.Execute(&html, v); err != nil {
		return mail.Message{}, fmt.Errorf("notify: HTML part: %w", err)
	}
	return mail.Message{
		From: c.from, To: sub.Email, Subject: headline,
		Text: text.String(), HTML: html.String(),
		MessageID: c.MessageID(ev.ID, sub.ID),
		Header: map[string]string{
			// RFC 2369 and RFC 8058: mail providers show an unsubscribe
			// button and POST to the URL themselves.
			"List-Unsubscribe":      "<" + v.UnsubscribeURL + ">",
			"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
			"Auto-Submitted":        "auto-generated",
		},
	}, nil
}

// MessageID is the Message-ID of event eventID's mail to subscription
// subID: the same for every attempt, and unique to the pair.
func (c *Composer) MessageID(eventID, subID int64) string {
	return fmt.Sprintf("event-%d.subscription-%d@%s", eventID, subID, c.idHost)
}

// UnsubscribeURL is the one-click unsubscribe link of a subscription.
func (c *Composer) UnsubscribeURL(subID int64) string {
	return c.link("unsubscribe/" + c.UnsubscribeToken(subID))
}

// ConfirmURL is the link that confirms a pending subscription.
func (c *Composer) ConfirmURL(token string) string {
	return c.link("subscribe/confirm/" + token)
}

// oneLine makes a name fit a header: control characters (a newline in an
// asset's name) become spaces, and runs of space collapse.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}
