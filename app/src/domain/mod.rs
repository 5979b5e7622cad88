//! Parse-don't-validate types shared by the browser and the server.
