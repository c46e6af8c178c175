package notify

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"strconv"
	"strings"
	texttemplate "text/template"
	"time"
	"unicode"

	icymorning "github.com/icy-morning/icy-morning"
	"github.com/icy-morning/icy-morning/mail"
)

//go:embed templates
var templateFS embed.FS

// templates are the two parts of a notification, parsed once. The HTML one
// is html/template, so an asset's name or description cannot inject markup.
type templates struct {
	text, confirmText *texttemplate.Template
	html, confirmHTML *htmltemplate.Template
}

func loadTemplates() (*templates, error) {
	var t templates
	var err error
	for _, p := range []struct {
		text **texttemplate.Template
		html **htmltemplate.Template
		name string
	}{{&t.text, &t.html, "notification"}, {&t.confirmText, &t.confirmHTML, "confirm"}} {
		if *p.text, err = texttemplate.ParseFS(templateFS, "templates/"+p.name+".txt"); err != nil {
			return nil, fmt.Errorf("notify: %w", err)
		}
		if *p.html, err = htmltemplate.ParseFS(templateFS, "templates/"+p.name+".html"); err != nil {
			return nil, fmt.Errorf("notify: %w", err)
		}
	}
	return &t, nil
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

// confirmView is what the confirmation templates see.
type confirmView struct {
	Email      string
	Topic      icymorning.Topic
	AnalystID  int64 // 0: every analyst
	ConfirmURL string
}

// ComposeConfirmation writes the mail that asks the owner of a pending
// subscription to confirm it with a link valid until expires.
func (c *Composer) ComposeConfirmation(sub *icymorning.Subscription, expires time.Time) (mail.Message, error) {
	v := confirmView{Email: sub.Email, Topic: sub.Topic, ConfirmURL: c.ConfirmURL(c.ConfirmToken(sub.ID, expires))}
	if sub.AnalystID != nil {
		v.AnalystID = *sub.AnalystID
	}
	var text, html bytes.Buffer
	if err := c.tmpl.confirmText.Execute(&text, v); err != nil {
		return mail.Message{}, fmt.Errorf("notify: confirmation text part: %w", err)
	}
	if err := c.tmpl.confirmHTML.Execute(&html, v); err != nil {
		return mail.Message{}, fmt.Errorf("notify: confirmation HTML part: %w", err)
	}
	return mail.Message{
		From: c.from, To: sub.Email, Subject: "Confirm your Icy Morning subscription",
		Text: text.String(), HTML: html.String(),
		// One id per confirmation sent: a second sign-up an hour later is
		// a new mail, not a resend of the first.
		MessageID: fmt.Sprintf("confirm-%d.%d@%s", sub.ID, expires.Unix(), c.idHost),
		Header:    map[string]string{"Auto-Submitted": "auto-generated"},
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
