"""Each carrier's API as the sandbox serves it (token, tracking, faults), in that carrier's
own shapes. Production code never imports the sandbox: carriers/ holds the adapters alone."""
