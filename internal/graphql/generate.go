package graphql

// The schema is schema.graphqls (written by hand) and kinds.graphqls (from
// the registry); gqlgen generates the executable schema from both.
//go:generate go run ./genkinds kinds.graphqls
//go:generate go tool gqlgen generate
