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
// Scheduling, change events between snapshots, enrichment of events and the
// stale-account report build on Snapshot and live elsewhere.
package directory
