"""The ground floor: the store's file, text, files on disk, errors and messages; nothing about the domain."""
