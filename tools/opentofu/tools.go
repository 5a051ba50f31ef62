//go:build tools

// Package tools pins the OpenTofu CLI the acceptance tests build (see go.mod).
package tools

import _ "github.com/opentofu/opentofu/cmd/tofu"
