package app

import (
	"context"
	"strconv"

	"github.com/quoteflow/quoteflow/internal/engine"
)

// ListWorkflowVersionsPage returns one page of a workflow's versions,
// newest first, and the position after it ("" on the last page). The
// position is a version number: versions are immutable and numbered, so a
// page boundary never moves when a new version is saved (it appears on the
// first page, before everything already listed). A position that is not a
// version number is refused naming query.cursor.
//
// The store reads all versions of the workflow and the page is cut here: a
// workflow has as many versions as it has had edits, which is small next
// to the rows of a paginated store list.
func (a *App) ListWorkflowVersionsPage(ctx context.Context, tenantID, id string, page engine.Page) ([]engine.Workflow, string, error) {
	var before int64
	if page.After != "" {
		n, err := strconv.ParseInt(page.After, 10, 64)
		if err != nil || n < 1 {
			return nil, "", &engine.Error{Code: engine.EINVALID, Message: "not a cursor of this list",
				Fields: []engine.FieldError{{Field: "query.cursor", Message: "not a cursor of this list: pass next_cursor unchanged"}}}
		}
		before = n
	}
	all, err := a.db.ListWorkflowVersions(ctx, tenantID, id)
	if err != nil {
		return nil, "", err
	}
	out := make([]engine.Workflow, 0, page.Size())
	for _, w := range all {
		if before != 0 && w.Version >= before {
			continue
		}
		if len(out) == page.Size() {
			return out, strconv.FormatInt(out[len(out)-1].Version, 10), nil
		}
		out = append(out, w)
	}
	return out, "", nil
}
