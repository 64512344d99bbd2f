"""The national statistics API, on the public domain, for clients holding a national token.

Named ``national_api`` because ``tenants.api`` is the module that structure-side code imports.
"""
