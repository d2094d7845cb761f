"""The directory's editors: who they are (OpenID Connect sign-in), what they may edit (grants admins manage)."""
