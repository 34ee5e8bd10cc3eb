"""The local certificate helper (证书助手) that runs on the user's own machine.

Chinese CA vendors ship a small local service with their USB keys so that web pages can ask
for a signature without the private key ever leaving the user's machine. ``sunlit signer
serve`` is that service for Sunlit: it holds certificates and keys from a folder (or, in a
deployment, fronts a USB key through PKCS#11) and signs only Sunlit login and binding
challenges, only for the configured platform origin.
"""
