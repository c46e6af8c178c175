package mail

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	netmail "net/mail"
	"net/url"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/smithy-go"
	"golang.org/x/time/rate"
)

// sesSender is the ses:// transport: SES v2 SendEmail, one call per
// message, with the SDK's standard configuration (credentials, region,
// AWS_ENDPOINT_URL_SESV2, AWS_MAX_ATTEMPTS and the rest).
//
// It sends Simple content with Headers rather than a raw MIME message:
// SES then builds the MIME itself (multipart/alternative, UTF-8), the
// extra headers travel as named fields SES validates, and the local SES
// stand-in the tests run keeps them, where it drops every header but the
// addresses and the subject of a raw message. SES replaces a message's
// Message-ID with its own either way; its MessageId, the Result's
// ProviderID, is what its bounce and complaint events name.
type sesSender struct {
	client    *sesv2.Client
	configSet *string // nil: the account's default configuration set
	name      string
	transport *http.Transport
	limit     *rate.Limiter
	closed    atomic.Bool
}

func openSES(ctx context.Context, u *url.URL, limit *rate.Limiter) (*sesSender, error) {
	const form = "ses://[?region=REGION][&configuration_set=NAME]"
	if u.Host != "" || u.User != nil || u.Opaque != "" || (u.Path != "" && u.Path != "/") {
		return nil, errors.New("mail: the ses URL takes only parameters: " + form)
	}
	q := u.Query()
	if err := checkQuery("ses", q, "region", "configuration_set"); err != nil {
		return nil, err
	}
	var loadOpts []func(*config.LoadOptions) error
	if r := q.Get("region"); r != "" {
		loadOpts = append(loadOpts, config.WithRegion(r))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return nil, fmt.Errorf("mail: ses: AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return nil, errors.New("mail: ses: no AWS region: add ?region= to the URL or set AWS_REGION")
	}
	// The transport the SDK configured (AWS_CA_BUNDLE and all), held here
	// so that Close can close its idle connections.
	tr := awshttp.NewBuildableClient().GetTransport()
	if b, ok := cfg.HTTPClient.(*awshttp.BuildableClient); ok {
		tr = b.GetTransport()
	}
	client := sesv2.NewFromConfig(cfg, func(o *sesv2.Options) { o.HTTPClient = &http.Client{Transport: tr} })
	s := &sesSender{client: client, transport: tr, limit: limit}
	name := url.Values{"region": {cfg.Region}}
	if cs := q.Get("configuration_set"); cs != "" {
		s.configSet = aws.String(cs)
		name.Set("configuration_set", cs)
	}
	s.name = "ses://?" + name.Encode()
	return s, nil
}

func (s *sesSender) Send(ctx context.Context, msgs []Message) []Result {
	return collect(ctx, msgs, s.SendEach)
}

func (s *sesSender) SendEach(ctx context.Context, msgs []Message, each func(i int, r Result)) {
	sendAll(ctx, "ses", s.limit, msgs, each, func(ctx context.Context, m *message) (string, error) {
		if s.closed.Load() {
			return "", &Error{Transport: "ses", Err: errClosed}
		}
		out, err := s.client.SendEmail(ctx, s.input(m))
		if err != nil {
			return "", sesError(err)
		}
		return aws.ToString(out.MessageId), nil
	})
}

func (s *sesSender) input(m *message) *sesv2.SendEmailInput {
	utf8 := func(s string) *types.Content {
		return &types.Content{Data: aws.String(s), Charset: aws.String("UTF-8")}
	}
	body := &types.Body{Text: utf8(m.text)}
	if m.html != "" {
		body.Html = utf8(m.html)
	}
	header := make([]types.MessageHeader, 0, len(m.header))
	for _, f := range m.header {
		header = append(header, types.MessageHeader{Name: aws.String(f.name), Value: aws.String(f.value)})
	}
	return &sesv2.SendEmailInput{
		FromEmailAddress:     aws.String(sesAddress(m.from)),
		Destination:          &types.Destination{ToAddresses: []string{sesAddress(m.to)}},
		Content:              &types.EmailContent{Simple: &types.Message{Subject: utf8(m.subject), Body: body, Headers: header}},
		ConfigurationSetName: s.configSet,
	}
}

// sesAddress is a as SES's examples write it: the bare address, or
// "Name <address>" with the name quoted or encoded as RFC 5322 needs.
func sesAddress(a *netmail.Address) string {
	if a.Name == "" {
		return a.Address
	}
	return a.String()
}

// sesPermanent are the SES error codes that refuse the message itself or
// its sender for good; see Error for the reasons.
var sesPermanent = map[string]bool{
	"MessageRejected":                    true, // SES will not send this message (content, or an unverified recipient in the sandbox)
	"MailFromDomainNotVerifiedException": true, // the From domain is not verified
	"AccountSuspendedException":          true, // the account may not send: AWS lifts that on appeal only
	"BadRequestException":                true, // the request is malformed (an address SES cannot parse, a message too large)
}

// sesError classifies an SDK error. Throttling, 5xx, SendingPaused (which
// an operator or SES's reputation check lifts), a missing configuration
// set, credentials and network errors are all transient.
func sesError(err error) *Error {
	e := &Error{Transport: "ses", Err: err}
	var api smithy.APIError
	if errors.As(err, &api) {
		e.Code = api.ErrorCode()
		e.Permanent = sesPermanent[e.Code]
	}
	return e
}

func (s *sesSender) Close() error {
	s.closed.Store(true)
	s.transport.CloseIdleConnections()
	return nil
}

func (s *sesSender) String() string { return s.name }
