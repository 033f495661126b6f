"""blendkit.lti"""
