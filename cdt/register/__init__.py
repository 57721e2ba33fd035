"""The commune's writes: one function per clerk action, each inside one write."""
