"""blendkit.sessions"""
