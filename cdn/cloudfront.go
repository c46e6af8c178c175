// Package cdn keeps the CloudFront distribution in front of the API fresh:
// after writes commit, it invalidates the cached reads they changed. The
// writes are read from the outbox (the events every change to an asset or
// an analyst records in its own transaction), through a cursor the store
// keeps (icymorning.InvalidationStore); CloudFront is called through the
// AWS SDK's client.
package cdn

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
)

// Invalidator invalidates cached paths of one distribution.
type Invalidator interface {
	// Invalidate asks for paths to be invalidated and returns the
	// invalidation's id. The same ref with the same paths names the same
	// invalidation: a retry of one that was made creates no other.
	Invalidate(ctx context.Context, ref string, paths []string) (id string, err error)
}

// CloudFront is the Invalidator of a CloudFront distribution.
type CloudFront struct {
	client       *cloudfront.Client
	distribution string
}

var _ Invalidator = (*CloudFront)(nil)

// NewCloudFront returns the Invalidator of distribution, with the AWS
// configuration cfg. The endpoint is the SDK's: AWS_ENDPOINT_URL_CLOUDFRONT
// (or AWS_ENDPOINT_URL) moves it, as for every AWS client, and so may
// optFns (BaseEndpoint).
func NewCloudFront(cfg aws.Config, distribution string, optFns ...func(*cloudfront.Options)) *CloudFront {
	return &CloudFront{client: cloudfront.NewFromConfig(cfg, optFns...), distribution: distribution}
}

// Invalidate implements Invalidator.
func (c *CloudFront) Invalidate(ctx context.Context, ref string, paths []string) (string, error) {
	out, err := c.client.CreateInvalidation(ctx, &cloudfront.CreateInvalidationInput{
		DistributionId: aws.String(c.distribution),
		InvalidationBatch: &types.InvalidationBatch{
			CallerReference: aws.String(ref),
			Paths:           &types.Paths{Quantity: aws.Int32(int32(len(paths))), Items: paths},
		},
	})
	if err != nil {
		return "", fmt.Errorf("cloudfront: invalidate %d paths of %s: %w", len(paths), c.distribution, err)
	}
	if out.Invalidation == nil || out.Invalidation.Id == nil {
		return "", errors.New("cloudfront: CreateInvalidation answered no invalidation id")
	}
	return *out.Invalidation.Id, nil
}
