"""cla-bot: checks pull requests on GitHub and Gitee against signed Contributor License
Agreements."""

__version__ = "0.1.0"
