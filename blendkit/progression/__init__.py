"""blendkit.progression"""
