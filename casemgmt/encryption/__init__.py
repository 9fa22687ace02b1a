"""Field-level encryption (docs/encryption.md).

keys         key-encryption keys, blind-index root keys, the audit key: loading and key files
crypto       data keys (wrapped, cached), values (AES-256-GCM bound to table, column, row and version),
             text forms, blind-index hashing
fields       the encrypted model fields and their lazy descriptor
values       Sealed (a stored value not yet opened), ERASED, RecordDamaged
indexes      BlindIndexField
managers     EncryptedQuerySet / EncryptedManager: no lookups, ordering or bulk writes around the encryption
normalise    how values are normalised before a blind index is computed
storage      moving encrypted columns between their text and binary forms (migrations)
rotation     re-wrapping data keys under a new KEK, rebuilding blind indexes
checks       start-up checks of the keys
serialization dumpdata that writes ciphertext, never an opened value

``casemgmt.crypto``, ``casemgmt.fields``, ``casemgmt.storage``, ``casemgmt.rotation`` and ``casemgmt.normalise``
still name the same modules, for the migrations and code that import them.
"""
