package main

import (
	"context"
	"fmt"
	"log/slog"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"

	"github.com/icy-morning/icy-morning/cdn"
	"github.com/icy-morning/icy-morning/sqlstore"
)

// openPurger returns the CDN's purger (CDN_DISTRIBUTION_ID), or nil when
// no distribution is configured: then nothing reads or writes the
// invalidation cursor, and no AWS configuration is loaded. The CloudFront
// endpoint is the SDK's own setting (AWS_ENDPOINT_URL_CLOUDFRONT moves it,
// for tests).
func openPurger(ctx context.Context, c *config, store *sqlstore.Store, logger *slog.Logger) (*cdn.Purger, error) {
	if c.cdnDistributionID == "" {
		return nil, nil
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("CDN_DISTRIBUTION_ID: AWS configuration: %w", err)
	}
	return cdn.NewPurger(store, cdn.NewCloudFront(awsCfg, c.cdnDistributionID), logger,
		cdn.Options{Interval: c.cdnInvalidationEvery, DailyPaths: c.cdnDailyPaths}), nil
}
