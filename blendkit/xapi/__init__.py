"""blendkit.xapi"""
