"""The imperative shell towards the forges: GitHub and Gitee."""
