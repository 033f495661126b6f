"""blendkit.integrations"""
