"""The grading engine of the asynchronous-Django homework.

``grader grade SUBMISSION`` assembles one fresh workspace per rubric part,
runs that part's tests in its own pytest process and reports one result in
every format (terminal, JSON, Markdown, GitHub Classroom, Gradescope, JUnit).
"""
