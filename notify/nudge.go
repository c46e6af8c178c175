package notify

import (
	"context"

	icymorning "github.com/icy-morning/icy-morning"
)

// NudgeAfterChanges returns store with each committed change to an asset
// followed by nudge, which wakes a dispatcher elsewhere (in AWS: a message
// on the worker's queue). The handlers stay as they are; changes made
// through InTx are not followed, and wait for the next periodic sweep.
func NudgeAfterChanges(store icymorning.Store, nudge func(ctx context.Context)) icymorning.Store {
	return nudging{Store: store, nudge: nudge}
}

type nudging struct {
	icymorning.Store
	nudge func(ctx context.Context)
}

func (n nudging) CreateAsset(ctx context.Context, a *icymorning.Asset) error {
	err := n.Store.CreateAsset(ctx, a)
	if err == nil {
		n.nudge(ctx)
	}
	return err
}

func (n nudging) UpdateAsset(ctx context.Context, id int64, u icymorning.AssetUpdate) (*icymorning.Asset, error) {
	a, err := n.Store.UpdateAsset(ctx, id, u)
	if err == nil {
		n.nudge(ctx)
	}
	return a, err
}

func (n nudging) DeleteAsset(ctx context.Context, id int64, ifVersion int64) (*icymorning.Asset, error) {
	a, err := n.Store.DeleteAsset(ctx, id, ifVersion)
	if err == nil {
		n.nudge(ctx)
	}
	return a, err
}
