// Package casework keeps Mamori's cases: incidents, failures, security
// incidents, problems, requests (log retrieval among them), vulnerability
// notices, periodic duties and planned outages, each with its life cycle,
// assignee, priority, comments, links to alerts, events and other cases, a
// timeline of what happened, and an audit trail of every change (who,
// when, before, after).
//
// Cases live in the store's "cases" collection through the store contract,
// with optimistic concurrency: an update names the version it read, and a
// concurrent update makes it fail with ErrConflict instead of overwriting
// (Cases.Update), or retries on the fresh case (Cases.Modify). So casework
// works the same on the embedded store and on Elasticsearch.
//
// SLA clocks (package casework/sla) are computed from a case's timeline,
// and log-retrieval requests are fulfilled by package casework/logexport.
package casework
