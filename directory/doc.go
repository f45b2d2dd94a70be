// Package directory reads users, groups and computers from Active Directory
// (or Samba AD DC) over LDAP, so that Mamori knows who an account belongs to,
// which department it is in and which privileged groups it reaches.
//
// A Client binds with a service account over LDAPS or StartTLS (never in
// clear), pages through the users, groups and computers under a base DN, and
// returns a Snapshot: typed entities with Active Directory's encodings
// decoded (userAccountControl flags, Windows FILETIME and generalized time,
// binary SIDs and GUIDs) and group membership resolved transitively, nested
// groups and primary groups included.
//
// On top of Snapshot: a Syncer (schedule.go) syncs on a schedule and keeps
// one updatable record per object in the store collection "directory" (id
// objectGUID; deleted objects are marked, not removed); Compare (diff.go)
// turns the difference between the stored records and a new snapshot into
// ECS change events (event.dataset mamori.directory) with deterministic ids,
// the first sync being a silent baseline; an Enricher (enrich.go) adds the
// account's full name, department, title, privileged groups and state
// (mamori.user.account_state: disabled, expired, deleted, locked or stale
// at the event's time, so rules can flag logons by leavers' accounts) to
// events in the parse stage from an in-memory copy of the records, deleted
// accounts included; StaleAccounts (stale.go) lists inactive,
// expired-but-enabled and logged-on-after-disable accounts.
package directory
