package httpapi

// APIVersion is the version of the API's contract, the document's
// info.version: semantic versioning of what clients see, bumped by hand
// in the commit that changes the document. Major: a change that can break
// a client (a member, status or operation removed or renamed, a rule
// tightened); minor: something added (an operation, an optional member, a
// status); patch: words only (descriptions, examples, summaries).
//
// openapi_version_test.go keeps it honest: testdata/openapi.fingerprint
// holds this version beside a hash of the document it was given to, and
// the test fails when the document changes but this version does not.
// After bumping it, record the new pair with
//
//	go test ./httpapi -run TestAPIVersionFollowsTheDocument -update-fingerprint
//
// The build (a commit) is a different thing: Config.Version, answered in
// the X-Build-Version header of /healthz.
const APIVersion = "1.2.0"
